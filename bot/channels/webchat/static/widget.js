/* Sportello web chat: one <script src="https://BOT/webchat/widget.js" defer></script> on any
 * page adds a chat button and panel; with data-mode="page" it fills the page (/chat).
 * Plain JavaScript, no framework, no cookies, no request to anyone but the bot. The browser
 * keeps a random token and the transcript in localStorage: the server deletes each message
 * once the browser confirms it holds it, so after a reload the transcript comes from here. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.sportelloWebchat) {
    return;
  }
  var BASE = script.src.replace(/\/webchat\/widget\.js(?:[?#].*)?$/, "");
  var PAGE = script.getAttribute("data-mode") === "page";
  var KEY = "sportello-webchat:" + BASE;
  var TEXT_LIMIT = 4000;
  var KEEP = 150; // transcript entries kept in the browser
  var memory = {}; // when localStorage is refused (private windows, settings)

  var state = load();
  var ui = {
    language: state.language || "it",
    dir: state.dir || "ltr",
    strings: state.strings || {
      title: "Chat", open: "Chat", close: "×", input: "…", send: "→",
      new: "•", log: "Chat", offline: "…"
    }
  };
  var polling = null; // the token whose messages are being fetched
  var shownFirst = false; // the first message of a batch just received was scrolled to
  var starting = null;
  var opened = PAGE;
  var view = build();
  window.sportelloWebchat = { open: open, close: close };

  // -- storage -------------------------------------------------------------------------

  function load() {
    var raw = null;
    try {
      raw = window.localStorage.getItem(KEY);
    } catch (error) {
      raw = memory[KEY] || null;
    }
    try {
      var parsed = raw ? JSON.parse(raw) : null;
      if (parsed && typeof parsed === "object") {
        parsed.log = Array.isArray(parsed.log) ? parsed.log : [];
        parsed.after = Number(parsed.after) || 0;
        return parsed;
      }
    } catch (error) { /* a damaged entry: start afresh */ }
    return { token: null, after: 0, log: [] };
  }

  function save() {
    state.log = state.log.slice(-KEEP);
    state.language = ui.language;
    state.dir = ui.dir;
    state.strings = ui.strings;
    var raw = JSON.stringify(state);
    try {
      window.localStorage.setItem(KEY, raw);
    } catch (error) {
      memory[KEY] = raw;
    }
  }

  function forget() {
    state = { token: null, after: 0, log: [] };
    try {
      window.localStorage.removeItem(KEY);
    } catch (error) {
      delete memory[KEY];
    }
  }

  // -- the view ------------------------------------------------------------------------

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === true) {
        node.setAttribute(name, "");
      } else if (value !== false && value !== null && value !== undefined) {
        node.setAttribute(name, String(value));
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function build() {
    var host = PAGE ? document.getElementById("sportello-chat") : null;
    if (!host) {
      host = el("div", { id: "sportello-webchat" });
      document.body.appendChild(host);
    }
    host.setAttribute("data-mode", PAGE ? "page" : "widget");
    var root = host.attachShadow({ mode: "open" });
    root.appendChild(el("link", { rel: "stylesheet", href: BASE + "/webchat/widget.css" }));

    var title = el(PAGE ? "h1" : "h2", { id: "title", class: "title" });
    var closeButton = PAGE ? null : el("button", { type: "button", class: "close" }, ["×"]);
    var log = el("div", { id: "log", class: "log", role: "log", tabindex: "0" });
    var status = el("p", { class: "status", role: "status" });
    var label = el("label", { for: "input", class: "visually-hidden" });
    var input = el("textarea", {
      id: "input", rows: "1", maxlength: String(TEXT_LIMIT), autocomplete: "off"
    });
    var send = el("button", { type: "submit", class: "send" });
    var form = el("form", { class: "composer" }, [label, input, send]);
    var header = el("div", { class: "header" }, closeButton ? [title, closeButton] : [title]);
    var panel = el("section", {
      id: "panel", class: "panel", "aria-labelledby": "title", hidden: !PAGE
    }, [header, log, status, form]);
    var announce = el("p", { class: "visually-hidden", "aria-live": "polite" });
    var badge = el("span", { class: "badge", hidden: true });
    var launcherLabel = el("span", { class: "launcher-label" });
    var launcher = PAGE ? null : el("button", {
      type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "panel"
    }, [icon(), launcherLabel, badge]);
    var frame = PAGE ? panel : el("aside", { class: "frame", "aria-labelledby": "title" },
      [launcher, panel, announce]);
    if (PAGE) {
      root.appendChild(frame);
      root.appendChild(announce);
    } else {
      root.appendChild(frame);
    }

    var parts = {
      host: host, panel: panel, title: title, close: closeButton, log: log, status: status,
      label: label, input: input, send: send, launcher: launcher, launcherLabel: launcherLabel,
      badge: badge, announce: announce
    };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    if (launcher) {
      launcher.addEventListener("click", function () {
        if (opened) { close(); } else { open(); }
      });
      closeButton.addEventListener("click", close);
      panel.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
          close();
        }
      });
    }
    view = parts;
    applyStrings();
    state.log.forEach(function (entry) { show(entry, false); });
    // Another tab of the same site holds the same conversation: what it receives or sends
    // (it saves it) shows here too, and an erasure there empties this one.
    window.addEventListener("storage", function (event) {
      if (event.key !== KEY) {
        return;
      }
      var fresh = load();
      if (fresh.token === state.token && fresh.log.length === state.log.length &&
          fresh.after === state.after) {
        return;
      }
      state = fresh;
      if (fresh.strings) {
        setInterface(fresh);
      }
      while (view.log.firstChild) {
        view.log.removeChild(view.log.firstChild);
      }
      state.log.forEach(function (entry) { show(entry, false); });
      poll();
    });
    if (PAGE || state.token) {
      // A returning user's chat fetches what came while they were away (a staff answer).
      begin();
    }
    return parts;
  }

  function icon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6" +
      "a2 2 0 0 1 2-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  function applyStrings() {
    var s = ui.strings;
    view.host.setAttribute("lang", ui.language);
    view.panel.setAttribute("dir", ui.dir);
    view.panel.setAttribute("lang", ui.language);
    view.title.textContent = s.title;
    view.log.setAttribute("aria-label", s.log);
    view.label.textContent = s.input;
    view.input.setAttribute("placeholder", s.input);
    view.send.textContent = s.send;
    view.badge.textContent = s.new;
    if (PAGE) {
      document.documentElement.lang = ui.language;
      document.title = s.title;
    }
    if (view.launcher) {
      view.launcher.setAttribute("dir", ui.dir);
      view.launcher.setAttribute("lang", ui.language);
      view.launcherLabel.textContent = s.title;
      view.close.setAttribute("aria-label", s.close);
      view.close.setAttribute("title", s.close);
      view.launcher.setAttribute("aria-label", opened ? s.close : s.open +
        (view.badge.hidden ? "" : " (" + s.new + ")"));
    }
  }

  function open() {
    opened = true;
    view.panel.hidden = false;
    view.badge.hidden = true;
    view.launcher.setAttribute("aria-expanded", "true");
    applyStrings();
    view.log.scrollTop = view.log.scrollHeight;
    view.input.focus();
    begin();
  }

  function close() {
    opened = false;
    view.panel.hidden = true;
    view.launcher.setAttribute("aria-expanded", "false");
    applyStrings();
    view.launcher.focus();
  }

  function runs(spans, target) {
    spans.forEach(function (span) {
      var parent = span[1] ? target.appendChild(el("strong")) : target;
      linkify(String(span[0]), parent);
    });
  }

  function linkify(text, parent) {
    var pattern = /https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(el("a", {
        href: match[0], target: "_blank", rel: "noopener noreferrer", dir: "ltr"
      }, [match[0]]));
      last = match.index + match[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function file(item) {
    try {
      var bytes = atob(item.data);
      var data = new Uint8Array(bytes.length);
      for (var i = 0; i < bytes.length; i += 1) {
        data[i] = bytes.charCodeAt(i);
      }
      var url = URL.createObjectURL(new Blob([data], { type: item.type }));
      return el("a", { href: url, download: item.name, class: "file", dir: "ltr" }, [item.name]);
    } catch (error) {
      return document.createTextNode(item.name);
    }
  }

  function show(entry, fresh) {
    var node;
    if (entry.who === "me") {
      node = el("div", { class: "msg me", dir: "auto" }, [entry.text]);
    } else {
      node = el("div", { class: "msg bot", dir: entry.rtl ? "rtl" : "auto",
        lang: entry.language || null });
      runs(entry.text || [], node);
      (entry.files || []).forEach(function (item) {
        node.appendChild(document.createTextNode("\n"));
        node.appendChild(file(item));
      });
    }
    view.log.appendChild(node);
    if (entry.who !== "me") {
      offer(entry);
    }
    if (fresh && entry.who !== "me" && !shownFirst) {
      // A long answer is read from its start: the first new message's top comes into view.
      shownFirst = true;
      view.log.scrollTop = node.offsetTop - view.log.offsetTop - 8;
      setTimeout(function () { shownFirst = false; }, 0);
    } else if (!shownFirst) {
      view.log.scrollTop = view.log.scrollHeight;
    }
    if (fresh && !opened) {
      view.badge.hidden = false;
      view.announce.textContent = ui.strings.new;
      applyStrings();
    }
  }

  function offer(entry) {
    // Only the latest menu can be tapped: older ones stay readable in the messages above.
    var active = view.log.getRootNode().activeElement;
    var lost = false;
    Array.prototype.forEach.call(view.log.querySelectorAll(".choices"), function (old) {
      lost = lost || old.contains(active);
      old.remove();
    });
    if (lost) {
      // The focused button went with its menu: the focus stays in the conversation.
      view.log.focus({ preventScroll: true });
    }
    var choices = entry.choices || [];
    if (!choices.length) {
      return;
    }
    var group = el("div", { class: "choices", role: "group", dir: entry.rtl ? "rtl" : "auto",
      lang: entry.language || null, "aria-label": ui.strings.title });
    choices.forEach(function (choice) {
      var button = el("button", { type: "button", dir: "auto" }, [String(choice[1])]);
      button.addEventListener("click", function () {
        // The buttons go when the answer comes: focus waits on the conversation, where the
        // next Tab reaches the new choices (and a phone's keyboard does not pop up).
        view.log.focus({ preventScroll: true });
        send({ choice: String(choice[0]) }, String(choice[1]), true);
      });
      group.appendChild(button);
    });
    view.log.appendChild(group);
  }

  // -- the server ----------------------------------------------------------------------

  function call(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) {
      headers.Authorization = "Bearer " + state.token;
    }
    return fetch(BASE + "/webchat/api" + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      mode: "cors"
    });
  }

  function language() {
    var tag = (navigator.languages && navigator.languages[0]) || navigator.language || "";
    return /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/.test(tag) ? tag : undefined;
  }

  function begin() {
    if (starting) {
      return starting;
    }
    starting = call("POST", "/session", { token: state.token || undefined, language: language() })
      .then(function (response) {
        if (response.status === 400 && state.token) {
          forget(); // not a token of ours any more: a new conversation
          starting = null;
          return begin();
        }
        if (!response.ok) {
          var error = new Error("session " + response.status);
          error.wait = Number(response.headers.get("Retry-After")) || 5;
          throw error;
        }
        return response.json().then(function (body) {
          state.token = body.token;
          setInterface(body);
          save();
          offline(false);
          poll();
        });
      })
      .catch(function (error) {
        offline(true);
        starting = null;
        setTimeout(begin, 1000 * Math.min(60, (error && error.wait) || 5));
      });
    return starting;
  }

  function setInterface(body) {
    if (body && body.strings) {
      ui.language = body.language;
      ui.dir = body.dir === "rtl" ? "rtl" : "ltr";
      ui.strings = body.strings;
      applyStrings();
    }
  }

  function poll() {
    // One loop per conversation: a loop whose token was forgotten (erased) ends by itself,
    // and the new conversation's loop starts at once.
    if (!state.token || polling === state.token) {
      return;
    }
    polling = state.token;
    var failures = 0;
    var token = state.token;
    function again(delay) {
      setTimeout(step, delay);
    }
    function step() {
      if (state.token !== token || polling !== token) {
        return;
      }
      call("GET", "/messages?after=" + encodeURIComponent(String(state.after)))
        .then(function (response) {
          if (response.status === 429) {
            var wait = Number(response.headers.get("Retry-After")) || 5;
            again(wait * 1000);
            return null;
          }
          if (!response.ok) {
            throw new Error("poll " + response.status);
          }
          return response.json().then(function (body) {
            failures = 0;
            offline(false);
            receive(body.messages || []);
            again(0);
          });
        })
        .catch(function () {
          failures += 1;
          offline(true);
          // Backing off: a server that is down is asked less and less often, up to a minute.
          again(Math.min(60000, 1000 * Math.pow(2, failures)));
        });
    }
    step();
  }

  function receive(messages) {
    var erase = false;
    messages.forEach(function (message) {
      if (!(message.id > state.after)) {
        return; // already shown (a poll repeated after a lost answer)
      }
      state.after = message.id;
      var entry = {
        who: "bot", id: message.id, text: message.text, choices: message.choices,
        language: message.language, rtl: message.rtl, files: message.files
      };
      state.log.push(entry);
      show(entry, true);
      if (message.forget) {
        erase = true;
      }
      if (message.language && message.language !== ui.language) {
        call("GET", "/strings?language=" + encodeURIComponent(message.language))
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (body) {
            setInterface(body);
            if (state.token) {
              save(); // not after an erasure: then nothing is kept
            }
          })
          .catch(function () { /* the old words stay */ });
      }
    });
    if (erase) {
      // Erased at the user's request: this browser keeps nothing either.
      forget();
      starting = null;
    } else if (messages.length) {
      save();
    }
  }

  function offline(yes) {
    view.status.textContent = yes ? ui.strings.offline : "";
  }

  function submit() {
    var text = view.input.value.trim();
    if (!text) {
      return;
    }
    view.input.value = "";
    send({ text: text.slice(0, TEXT_LIMIT) }, text);
  }

  function send(body, shown, tapped) {
    var entry = { who: "me", text: shown };
    state.log.push(entry);
    show(entry, false);
    save();
    if (!tapped) {
      view.input.focus();
    }
    body.language = language();
    (state.token ? Promise.resolve() : begin()).then(function () {
      if (!state.token) {
        throw new Error("no conversation yet"); // the start failed: it is being retried
      }
      return call("POST", "/send", body);
    }).then(function (response) {
      if (response.status === 401) {
        forget();
        starting = null;
        return begin();
      }
      if (!response.ok && response.status !== 429) {
        throw new Error("send " + response.status);
      }
      offline(false);
      return null;
    }).catch(function () {
      offline(true);
    });
  }
})();
