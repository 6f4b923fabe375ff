from consortia.codec.canonical import decode, decode_any, encode

__all__ = ["decode", "decode_any", "encode"]
