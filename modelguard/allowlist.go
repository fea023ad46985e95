package modelguard

import "strings"

// defaultAllow is the set of callables a pickle may import and still be
// judged clean. Each entry is "module.name" where name has no dot: the
// pickle's (module, name) pair must match exactly, so a dotted attribute
// path such as collections / OrderedDict.fromkeys never matches.
//
// The set covers what torch.save, numpy and joblib emit for plain tensors,
// arrays and containers; anything else (a whole nn.Module, a scikit-learn
// estimator) must be allowed explicitly with Config.Allow.
var defaultAllow = []string{
	// Containers and scalars.
	"collections.OrderedDict",
	"collections.defaultdict",
	"collections.deque",
	"collections.Counter",
	"builtins.set", "builtins.frozenset", "builtins.slice", "builtins.complex",
	"builtins.bytearray", "builtins.bytes", "builtins.int", "builtins.float",
	"builtins.str", "builtins.bool", "builtins.list", "builtins.dict",
	"builtins.tuple", "builtins.range", "builtins.object",
	"__builtin__.set", "__builtin__.frozenset", "__builtin__.slice",
	"__builtin__.complex", "__builtin__.bytearray", "__builtin__.object",
	"decimal.Decimal", "fractions.Fraction", "uuid.UUID",
	"copyreg._reconstructor", "copy_reg._reconstructor",
	// _codecs.encode(str, "latin1") is how protocol-2 numpy pickles carry bytes.
	"_codecs.encode",
	"datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
	"datetime.timezone",
	// PyTorch tensor and storage reconstruction.
	"torch._utils._rebuild_tensor",
	"torch._utils._rebuild_tensor_v2",
	"torch._utils._rebuild_tensor_v3",
	"torch._utils._rebuild_parameter",
	"torch._utils._rebuild_parameter_with_state",
	"torch._utils._rebuild_qtensor",
	"torch._utils._rebuild_sparse_tensor",
	"torch._utils._rebuild_meta_tensor_no_storage",
	"torch._utils._rebuild_wrapper_subclass",
	"torch._utils._rebuild_device_tensor_from_numpy",
	"torch._tensor._rebuild_from_type_v2",
	"torch.Size", "torch.device", "torch.Tensor",
	"torch.nn.parameter.Parameter",
	"torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage",
	"torch.BFloat16Storage", "torch.LongStorage", "torch.IntStorage",
	"torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
	"torch.BoolStorage", "torch.ComplexFloatStorage", "torch.ComplexDoubleStorage",
	"torch.QUInt8Storage", "torch.QInt8Storage", "torch.QInt32Storage",
	"torch.QUInt4x2Storage", "torch.QUInt2x4Storage", "torch.UntypedStorage",
	"torch.float32", "torch.float64", "torch.float16", "torch.bfloat16",
	"torch.int64", "torch.int32", "torch.int16", "torch.int8", "torch.uint8",
	"torch.bool", "torch.complex64", "torch.complex128",
	"torch.float8_e4m3fn", "torch.float8_e5m2",
	"torch.strided", "torch.sparse_coo", "torch.per_tensor_affine",
	"torch.per_channel_affine",
	// NumPy array reconstruction.
	"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
	"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
	"numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
	"numpy.ndarray", "numpy.dtype",
	// joblib keeps arrays outside the pickle stream behind this wrapper.
	"joblib.numpy_pickle.NumpyArrayWrapper",
}

// criticalModules are top-level modules whose import in a model is a
// near-certain sign of code execution, file or network access.
var criticalModules = map[string]bool{
	"os": true, "posix": true, "nt": true, "subprocess": true, "sys": true,
	"runpy": true, "pty": true, "socket": true, "shutil": true, "importlib": true,
	"pip": true, "ctypes": true, "commands": true, "webbrowser": true, "code": true,
	"multiprocessing": true, "asyncio": true, "signal": true, "marshal": true,
	"pickle": true, "_pickle": true, "dill": true, "cloudpickle": true,
	"types": true, "operator": true, "functools": true, "timeit": true, "pdb": true,
	"bdb": true, "requests": true, "urllib": true, "urllib3": true, "http": true,
	"ftplib": true, "smtplib": true, "telnetlib": true, "tempfile": true,
	"glob": true, "pathlib": true, "io": true, "_io": true, "shelve": true,
	"posixpath": true, "ntpath": true, "platform": true, "cProfile": true,
	"profile": true, "trace": true, "venv": true, "ensurepip": true,
	"distutils": true, "setuptools": true, "pkgutil": true, "zipimport": true,
	"_posixsubprocess": true, "builtins": true, "__builtin__": true,
	"_thread": true, "threading": true, "site": true, "sysconfig": true,
}

// allowlist is an immutable set of allowed (module, name) pairs.
type allowlist map[string]bool

func newAllowlist(extra []string) allowlist {
	a := make(allowlist, len(defaultAllow)+len(extra))
	for _, s := range defaultAllow {
		a[s] = true
	}
	for _, s := range extra {
		a[s] = true
	}
	return a
}

// allowed reports whether module.name may be imported. A name containing a
// dot (an attribute path) never matches.
func (a allowlist) allowed(module, name string) bool {
	if strings.Contains(name, ".") || module == "" || name == "" {
		return false
	}
	return a[module+"."+name]
}

// importSeverity ranks a non-allowlisted import.
func importSeverity(module string) Severity {
	root, _, _ := strings.Cut(module, ".")
	if criticalModules[root] {
		return SeverityCritical
	}
	switch module {
	case "torch.hub", "torch.serialization", "torch.storage", "numpy.testing._private.utils", "torch.jit", "torch._C":
		return SeverityCritical
	}
	return SeverityHigh
}

// validAllowEntry reports whether s has the "module.name" form.
func validAllowEntry(s string) bool {
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || i == len(s)-1 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !isIdentifier(part) {
			return false
		}
	}
	return true
}

// isIdentifier reports whether s is an ASCII Python identifier.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// isDottedIdentifier reports whether s is one or more identifiers joined by dots.
func isDottedIdentifier(s string) bool {
	for _, p := range strings.Split(s, ".") {
		if !isIdentifier(p) {
			return false
		}
	}
	return true
}
