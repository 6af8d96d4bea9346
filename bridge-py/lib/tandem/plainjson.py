"""Plain data (dict with str keys, list, str, int, float, bool, None; no container met twice) encoded by the
stdlib's C encoder: for such data it writes exactly the bytes simplejson (AWS's encoder) writes, so both the
simplejson codec and its emulation take this path first. Imports only the `_json` C module."""


_SCALARS = frozenset((str, int, float, bool, type(None)))


def is_plain(o):
    """True when o holds only dict (str keys), list, str, int, float, bool and None: then the stdlib C
    encoder writes exactly the bytes simplejson writes, much faster."""
    scalars = _SCALARS
    t = type(o)
    if t in scalars:
        return True
    if t is not dict and t is not list:
        return False
    stack = [o]
    pop = stack.pop
    push = stack.append
    seen = {id(o)}  # a container met twice (shared or circular): leave it to the general encoder
    see = seen.add
    while stack:
        x = pop()
        if type(x) is dict:
            for k in x:
                if type(k) is not str:
                    return False
            x = x.values()
        for v in x:
            tv = type(v)
            if tv in scalars:
                continue
            if tv is dict or tv is list:
                if id(v) in seen:
                    return False
                see(id(v))
                push(v)
            else:
                return False
    return True


def _no_default(o):
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


def make_fast_dumps(ensure_ascii, general):
    """dumps that takes the stdlib C encoder for plain data and `general` for everything else."""
    try:
        from _json import encode_basestring, encode_basestring_ascii, make_encoder
    except ImportError:
        make_encoder = None
    if make_encoder is None:
        import json

        encode = json.JSONEncoder(ensure_ascii=ensure_ascii, allow_nan=True).encode

        def dumps(o):
            if is_plain(o):
                return encode(o)
            return general(o)

        return dumps

    # One C encoder object for every call (json.dumps builds one per call). No circular-reference
    # markers: is_plain() has already refused any container met twice.
    enc_str = encode_basestring_ascii if ensure_ascii else encode_basestring
    c_encode = make_encoder(None, _no_default, enc_str, None, ": ", ", ", False, False, True)
    join = "".join
    str_type = str

    def dumps(o):
        if is_plain(o):
            if type(o) is str_type:
                return enc_str(o)
            return join(c_encode(o, 0))
        return general(o)

    return dumps
