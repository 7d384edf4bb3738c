/* The content's YAML read straight from libyaml's events, in C.
 *
 * bot/content/yamlfile.py reads a file the same way in Python (_from_events): PyYAML turns each
 * of libyaml's events into a Python object with two marks, and a hundredfold content holds
 * millions of them (two thirds of a first load with no cache). Here the events never become
 * Python objects: only the mappings, lists and texts the loader keeps are made.
 *
 * The reading is plain or it is refused: anchors, aliases, tags, directives, keys that are not
 * words, a repeated key, a second document or any syntax error return NotImplemented, and
 * yamlfile.py reads the file again its own way, with its own errors. A plain scalar that may be
 * something else than text (a number, a date, true, null) is handed to the caller's `plain`.
 * Built only where libyaml's headers are (libyaml-dev); without it the Python way reads alike.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <yaml.h>

/* PyYAML's own libyaml (0.2.6 in its wheels) refuses documents nested more than 1000 levels
 * deep, and the system's (0.2.5) reads them, slowly (quadratic in flow nesting): deeper than
 * this, the Python way reads the file, and reports what it reports. */
#define DEEPEST 999

typedef struct {
    PyObject *container; /* the mapping or list being filled */
    PyObject *lines;     /* its key_lines or item_lines */
    PyObject *key;       /* in a mapping: its key waiting for its value, or NULL */
    long key_line;
    long line;
    int in_mapping;
} Frame;

typedef struct {
    PyObject *mapping_type;
    PyObject *list_type;
    PyObject *plain;
    PyObject *words;
    const char *first; /* the first bytes a plain scalar other than text may start with */
    Py_ssize_t first_length;
} Reading;

static PyObject *LINE, *KEY_LINES, *ITEM_LINES; /* attribute names, interned */

static int may_not_be_text(const Reading *reading, PyObject *text, const unsigned char *bytes,
                           size_t length) {
    if (length == 0) {
        return 1;
    }
    if (memchr(reading->first, bytes[0], (size_t)reading->first_length) == NULL) {
        return 0;
    }
    if ((bytes[0] | 0x20) >= 'a' && (bytes[0] | 0x20) <= 'z') {
        /* Words starting with a letter are something else only when they are one of a few. */
        return PySet_Contains(reading->words, text);
    }
    return 1;
}

static PyObject *scalar(const Reading *reading, const yaml_event_t *event) {
    const unsigned char *bytes = event->data.scalar.value;
    size_t length = event->data.scalar.length;
    PyObject *text = PyUnicode_DecodeUTF8((const char *)bytes, (Py_ssize_t)length, "strict");
    if (text == NULL || !event->data.scalar.plain_implicit) {
        return text;
    }
    int check = may_not_be_text(reading, text, bytes, length);
    if (check <= 0) {
        if (check < 0) {
            Py_CLEAR(text);
        }
        return text;
    }
    PyObject *value = PyObject_CallOneArg(reading->plain, text);
    Py_DECREF(text);
    return value;
}

/* 0 on success (the frame holds both references), -1 on a Python error. */
static int open_container(const Reading *reading, Frame *frame, int mapping, long line) {
    PyObject *container =
        PyObject_CallNoArgs(mapping ? reading->mapping_type : reading->list_type);
    PyObject *lines = mapping ? PyDict_New() : PyList_New(0);
    PyObject *number = PyLong_FromLong(line);
    if (container == NULL || lines == NULL || number == NULL ||
        PyObject_SetAttr(container, mapping ? KEY_LINES : ITEM_LINES, lines) < 0 ||
        PyObject_SetAttr(container, LINE, number) < 0) {
        Py_XDECREF(container);
        Py_XDECREF(lines);
        Py_XDECREF(number);
        return -1;
    }
    Py_DECREF(number);
    *frame = (Frame){container, lines, NULL, 0, line, mapping};
    return 0;
}

/* 1: the key was taken; 0: not a plain key (unsure); -1: a Python error. */
static int take_key(Frame *frame, PyObject *key, long line) {
    if (!PyUnicode_Check(key) && !PyLong_Check(key) && !PyFloat_Check(key)) {
        return 0;
    }
    int known = PyDict_Contains(frame->container, key);
    if (known != 0) {
        return known < 0 ? -1 : 0;
    }
    Py_INCREF(key);
    frame->key = key;
    frame->key_line = line;
    return 1;
}

/* 0 on success, -1 on a Python error. `line`: the value's, for a list (a mapping keeps its
 * key's). */
static int add_item(Frame *frame, PyObject *value, long line) {
    PyObject *number = PyLong_FromLong(frame->in_mapping ? frame->key_line : line);
    if (number == NULL) {
        return -1;
    }
    int failed;
    if (frame->in_mapping) {
        failed = PyDict_SetItem(frame->container, frame->key, value) < 0 ||
                 PyDict_SetItem(frame->lines, frame->key, number) < 0;
        Py_CLEAR(frame->key);
    } else {
        failed = PyList_Append(frame->container, value) < 0 ||
                 PyList_Append(frame->lines, number) < 0;
    }
    Py_DECREF(number);
    return failed ? -1 : 0;
}

static int next_event(yaml_parser_t *parser, yaml_event_t *event, yaml_event_type_t *type) {
    if (!yaml_parser_parse(parser, event)) {
        return 0;
    }
    *type = event->type;
    return 1;
}

/* The document (a new reference), Py_NotImplemented when unsure, NULL on a Python error. */
static PyObject *read_events(const Reading *reading, yaml_parser_t *parser) {
    yaml_event_t event;
    yaml_event_type_t type;
    Frame *frames = NULL;
    Py_ssize_t depth = 0, room = 0;
    PyObject *document = NULL, *result = NULL;
    int unsure = 0;

    if (!next_event(parser, &event, &type)) {
        return Py_NewRef(Py_NotImplemented);
    }
    yaml_event_delete(&event);
    if (type != YAML_STREAM_START_EVENT || !next_event(parser, &event, &type)) {
        return Py_NewRef(Py_NotImplemented);
    }
    if (type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&event);
        return Py_NewRef(Py_None);
    }
    int directives = type == YAML_DOCUMENT_START_EVENT &&
                     (event.data.document_start.version_directive != NULL ||
                      event.data.document_start.tag_directives.start !=
                          event.data.document_start.tag_directives.end);
    yaml_event_delete(&event);
    if (type != YAML_DOCUMENT_START_EVENT || directives) {
        return Py_NewRef(Py_NotImplemented);
    }
    for (;;) {
        if (!next_event(parser, &event, &type)) {
            unsure = 1;
            goto done;
        }
        PyObject *value = NULL;
        long line = (long)event.start_mark.line + 1;
        if (type == YAML_SCALAR_EVENT) {
            if (event.data.scalar.anchor != NULL || event.data.scalar.tag != NULL) {
                unsure = 1;
            } else {
                value = scalar(reading, &event);
            }
        } else if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) {
            int mapping = type == YAML_MAPPING_START_EVENT;
            if ((mapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor) !=
                    NULL ||
                (mapping ? event.data.mapping_start.tag : event.data.sequence_start.tag) != NULL) {
                unsure = 1;
            } else {
                yaml_event_delete(&event);
                if (depth >= DEEPEST) {
                    unsure = 1;
                    goto done;
                }
                if (depth == room) {
                    Py_ssize_t larger = room ? room * 2 : 16;
                    Frame *grown = PyMem_Realloc(frames, (size_t)larger * sizeof(Frame));
                    if (grown == NULL) {
                        PyErr_NoMemory();
                        goto done;
                    }
                    frames = grown;
                    room = larger;
                }
                if (open_container(reading, &frames[depth], mapping, line) < 0) {
                    goto done;
                }
                depth++;
                continue;
            }
        } else if ((type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT) &&
                   depth > 0) {
            Frame *closed = &frames[--depth];
            value = closed->container;
            line = closed->line;
            Py_CLEAR(closed->key);
            Py_CLEAR(closed->lines);
        } else if (type == YAML_DOCUMENT_END_EVENT && depth == 0) {
            yaml_event_delete(&event);
            break;
        } else { /* an alias, or a stream that ends too soon */
            unsure = 1;
        }
        yaml_event_delete(&event);
        if (unsure || value == NULL) {
            goto done;
        }
        if (depth == 0) {
            Py_XSETREF(document, value);
            continue;
        }
        Frame *frame = &frames[depth - 1];
        int failed = 0;
        if (frame->in_mapping && frame->key == NULL) {
            int taken = take_key(frame, value, line);
            unsure = taken == 0;
            failed = taken < 0;
        } else {
            failed = add_item(frame, value, line) < 0;
        }
        Py_DECREF(value);
        if (unsure || failed) {
            goto done;
        }
    }
    if (!next_event(parser, &event, &type)) {
        unsure = 1;
        goto done;
    }
    yaml_event_delete(&event);
    if (type != YAML_STREAM_END_EVENT || document == NULL) {
        unsure = 1;
        goto done;
    }
    result = document;
    document = NULL;

done:
    while (depth > 0) {
        Frame *frame = &frames[--depth];
        Py_XDECREF(frame->key);
        Py_DECREF(frame->lines);
        Py_DECREF(frame->container);
    }
    PyMem_Free(frames);
    Py_XDECREF(document);
    if (unsure && !PyErr_Occurred()) {
        return Py_NewRef(Py_NotImplemented);
    }
    return result;
}

static PyObject *read_document(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"data", "mapping", "sequence", "plain", "first", "words", NULL};
    Reading reading;
    const char *data;
    Py_ssize_t length;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y#$OOOy#O!:read", names, &data, &length,
                                     &reading.mapping_type, &reading.list_type, &reading.plain,
                                     &reading.first, &reading.first_length, &PyFrozenSet_Type,
                                     &reading.words)) {
        return NULL;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        return PyErr_NoMemory();
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, (size_t)length);
    PyObject *document = read_events(&reading, &parser);
    yaml_parser_delete(&parser);
    return document;
}

static PyMethodDef methods[] = {
    {"read", (PyCFunction)(void (*)(void))read_document, METH_VARARGS | METH_KEYWORDS,
     "read(data, *, mapping, sequence, plain, first, words): the document in data (UTF-8 "
     "YAML) or NotImplemented when the reading is not plain; see bot/content/yamlfile.py."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef definition = {
    PyModuleDef_HEAD_INIT, "_yamlevents", "The content's YAML read from libyaml's events.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__yamlevents(void) {
    LINE = PyUnicode_InternFromString("line");
    KEY_LINES = PyUnicode_InternFromString("key_lines");
    ITEM_LINES = PyUnicode_InternFromString("item_lines");
    if (LINE == NULL || KEY_LINES == NULL || ITEM_LINES == NULL) {
        return NULL;
    }
    return PyModule_Create(&definition);
}
