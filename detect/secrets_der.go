package detect

import (
	"bytes"
	encasn1 "encoding/asn1"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// opensshMagic begins an OpenSSH private key (PROTOCOL.key in OpenSSH's
// sources): "openssh-key-v1" and a NUL.
const opensshMagic = "openssh-key-v1\x00"

// derPrivateKey reports whether b, decoded from base64 found without PEM
// armour, is a private key: an OpenSSH key, or DER of PKCS#1 RSAPrivateKey
// (RFC 8017 A.1.2), PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5958),
// PKCS#8 EncryptedPrivateKeyInfo with a PKCS#5 or PKCS#12 scheme, or SEC1
// ECPrivateKey (RFC 5915). truncated is set when b stops inside the
// structure (a key cut off mid-paste, still a secret). Only the outer
// structure is parsed: the cost is linear in len(b), and public keys and
// certificates, whose structures differ, do not pass.
func derPrivateKey(b []byte) (ok, truncated bool) {
	if bytes.HasPrefix(b, []byte(opensshMagic)) {
		return true, false
	}
	if len(b) < 4 || b[0] != 0x30 {
		return false, false
	}
	// The outer SEQUENCE's header, read by hand so that a truncated key
	// is still recognised.
	n, hdr := 0, 2
	switch l := b[1]; {
	case l < 0x80:
		n = int(l)
	case l == 0x81:
		n, hdr = int(b[2]), 3
	case l == 0x82:
		n, hdr = int(b[2])<<8|int(b[3]), 4
	case l == 0x83 && len(b) > 4:
		n, hdr = int(b[2])<<16|int(b[3])<<8|int(b[4]), 5
	default:
		return false, false
	}
	body := b[hdr:]
	switch {
	case n == len(body):
	case n > len(body) && len(body) >= 64:
		truncated = true
	default:
		return false, false
	}
	in := cryptobyte.String(body)
	if in.PeekASN1Tag(asn1.SEQUENCE) {
		return encryptedPKCS8(in), truncated
	}
	var version int64
	if !in.ReadASN1Integer(&version) {
		return false, false
	}
	switch {
	case in.PeekASN1Tag(asn1.INTEGER) && (version == 0 || version == 1):
		return rsaPrivateKey(in, truncated), truncated
	case in.PeekASN1Tag(asn1.SEQUENCE) && (version == 0 || version == 1):
		return pkcs8PrivateKey(in, truncated), truncated
	case in.PeekASN1Tag(asn1.OCTET_STRING) && version == 1:
		var key cryptobyte.String
		if !in.ReadASN1(&key, asn1.OCTET_STRING) {
			return false, false
		}
		return len(key) >= 16 && len(key) <= 66, truncated
	}
	return false, false
}

// rsaPrivateKey checks the integers after the version of an
// RSAPrivateKey: modulus, public and private exponent, primes,
// exponents and coefficient.
func rsaPrivateKey(in cryptobyte.String, truncated bool) bool {
	var ints int
	for ; ints < 8; ints++ {
		var v cryptobyte.String
		if !in.ReadASN1(&v, asn1.INTEGER) {
			break
		}
		switch ints {
		case 0: // the modulus: 512 bits or more
			if len(v) < 64 {
				return false
			}
		case 1: // the public exponent: small
			if len(v) > 8 {
				return false
			}
		}
	}
	if truncated {
		return ints >= 1
	}
	return ints == 8
}

// pkcs8PrivateKey checks the AlgorithmIdentifier and the OCTET STRING
// privateKey after the version of a PrivateKeyInfo.
func pkcs8PrivateKey(in cryptobyte.String, truncated bool) bool {
	var alg cryptobyte.String
	var oid encasn1.ObjectIdentifier
	if !in.ReadASN1(&alg, asn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return false
	}
	if truncated {
		return len(in) > 0 && in[0] == byte(asn1.OCTET_STRING)
	}
	var key cryptobyte.String
	return in.ReadASN1(&key, asn1.OCTET_STRING) && len(key) > 0
}

// encryptedPKCS8 checks an EncryptedPrivateKeyInfo: an AlgorithmIdentifier
// of PBES1, PBES2 (PKCS #5) or a PKCS #12 PBE scheme, then the encrypted
// data as an OCTET STRING.
func encryptedPKCS8(in cryptobyte.String) bool {
	var alg cryptobyte.String
	var oid encasn1.ObjectIdentifier
	if !in.ReadASN1(&alg, asn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return false
	}
	// 1.2.840.113549.1.5.x (PKCS #5) and 1.2.840.113549.1.12.1.x (PKCS #12 PBE).
	pkcs := len(oid) >= 7 && oid[0] == 1 && oid[1] == 2 && oid[2] == 840 && oid[3] == 113549 && oid[4] == 1
	if !pkcs || !(oid[5] == 5 || oid[5] == 12 && oid[6] == 1) {
		return false
	}
	return in.PeekASN1Tag(asn1.OCTET_STRING)
}
