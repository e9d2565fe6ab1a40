/* Optional native speed-up for drivers/fit/walk.py: the header walk and the FIT CRC.
 *
 * Both do exactly what their Python versions do (walk.Walker._messages' inner loop and
 * crc.crc16_py); the Python code is used whenever this module is not built, and the tests
 * compare the two on every corpus file.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* walk(buf, pos, limit, steps) -> (positions: bytes of int64, pos)
 * steps: 256 uint32 message lengths by header byte, 0 = stop (needs the Python path).
 * Appends pos while pos < limit and steps[buf[pos]] != 0, then pos += step. */
static PyObject *walk(PyObject *self, PyObject *args) {
    Py_buffer buf, steps;
    Py_ssize_t pos, limit;
    if (!PyArg_ParseTuple(args, "y*nny*", &buf, &pos, &limit, &steps)) return NULL;
    PyObject *result = NULL;
    if (steps.len != 256 * (Py_ssize_t)sizeof(uint32_t) || limit > buf.len || pos < 0) {
        PyErr_SetString(PyExc_ValueError, "walk: bad arguments");
        goto done;
    }
    const uint8_t *b = (const uint8_t *)buf.buf;
    const uint32_t *st = (const uint32_t *)steps.buf;
    Py_ssize_t cap = 1024, n = 0;
    int64_t *out = PyMem_Malloc(cap * sizeof(int64_t));
    if (!out) { PyErr_NoMemory(); goto done; }
    while (pos < limit) {
        uint32_t step = st[b[pos]];
        if (!step) break;
        if (n == cap) {
            cap *= 2;  /* n never exceeds limit: every step is >= 1 byte */
            int64_t *grown = PyMem_Realloc(out, cap * sizeof(int64_t));
            if (!grown) { PyMem_Free(out); PyErr_NoMemory(); goto done; }
            out = grown;
        }
        out[n++] = (int64_t)pos;
        pos += step;
    }
    PyObject *positions = PyBytes_FromStringAndSize((const char *)out, n * sizeof(int64_t));
    PyMem_Free(out);
    if (positions) {
        result = Py_BuildValue("Nn", positions, pos);
    }
done:
    PyBuffer_Release(&buf);
    PyBuffer_Release(&steps);
    return result;
}

/* The FIT CRC-16 is CRC-16/ARC (reflected polynomial 0xA001, initial value 0); the SDK's
 * nibble-wise algorithm (fit_crc.c) computes the same function. Here: slicing-by-8 tables
 * (eight bytes per step), then byte-at-a-time for the tail. */
static uint16_t T[8][256];

static void crc_init(void) {
    for (unsigned i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (uint16_t)((c >> 1) ^ 0xA001) : (uint16_t)(c >> 1);
        T[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++)
        for (int k = 1; k < 8; k++) T[k][i] = (uint16_t)((T[k - 1][i] >> 8) ^ T[0][T[k - 1][i] & 0xFF]);
}

/* crc16(data, crc=0) -> int */
static PyObject *crc16(PyObject *self, PyObject *args) {
    Py_buffer data;
    unsigned int crc = 0;
    if (!PyArg_ParseTuple(args, "y*|I", &data, &crc)) return NULL;
    const uint8_t *p = (const uint8_t *)data.buf;
    Py_ssize_t n = data.len;
    uint16_t c = (uint16_t)crc;
    while (n >= 8) {
        uint8_t b0 = p[0] ^ (uint8_t)c, b1 = p[1] ^ (uint8_t)(c >> 8);
        c = (uint16_t)(T[7][b0] ^ T[6][b1] ^ T[5][p[2]] ^ T[4][p[3]] ^ T[3][p[4]] ^ T[2][p[5]] ^
                       T[1][p[6]] ^ T[0][p[7]]);
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = (uint16_t)((c >> 8) ^ T[0][(c ^ *p++) & 0xFF]);
    PyBuffer_Release(&data);
    return PyLong_FromUnsignedLong(c);
}

static PyMethodDef METHODS[] = {
    {"walk", walk, METH_VARARGS, "Header walk over fixed-length data messages."},
    {"crc16", crc16, METH_VARARGS, "FIT CRC-16."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "_walkc", NULL, -1, METHODS};

PyMODINIT_FUNC PyInit__walkc(void) {
    crc_init();
    return PyModule_Create(&MODULE);
}
