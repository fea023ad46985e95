package gateway

import (
	"bytes"
	"encoding/base64"
	"math"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Opaque values.
//
// Every string of a request and a response is scanned, except values
// that prove to be what the API says sits at their position: an image,
// a document or audio as a data URL or base64 with a media type, a
// reasoning blob the provider made and will verify (OpenAI's
// encrypted_content, Anthropic's thinking signature and redacted
// thinking data), a base64 embedding. Proof is strict, because anything
// that passes here reaches the model unscanned: a data URL must be RFC
// 2397 with a real media type and valid base64, and its first bytes must
// be the magic of that type; a blob a caller sends must be valid base64
// of bytes that look encrypted, not of text. A value that fails is
// scanned like any other string, and rewritten if it holds a finding.
// Values that pass are forwarded byte for byte, never rewritten (the
// providers verify reasoning blobs).

// opaqueKind says what may sit at an opaque position.
type opaqueKind uint8

const (
	// opaqueDataURL: a data URL of an image, PDF or audio whose bytes
	// start with the type's magic.
	opaqueDataURL opaqueKind = iota + 1
	// opaqueMedia: base64 of an image, PDF or audio whose type is in the
	// sibling field (media_type, format).
	opaqueMedia
	// opaqueBlob: base64 of high-entropy bytes (a reasoning blob sent
	// back by a caller).
	opaqueBlob
	// opaqueBase64: any well-formed base64 (made by the upstream).
	opaqueBase64
	// opaqueEmbedding: base64 of little-endian float32s.
	opaqueEmbedding
)

// opaqueRule is an opaque position of a shape.
type opaqueRule struct {
	at      patterns
	kind    opaqueKind
	sibling string // opaqueMedia: the key of the sibling that names the type
}

// opaqueAt returns the rule for a value's path, or nil.
func opaqueAt(rules []opaqueRule, path string) *opaqueRule {
	for i := range rules {
		if _, ok := rules[i].at.match(path); ok {
			return &rules[i]
		}
	}
	return nil
}

// proves reports whether v is an opaque value of the rule's kind;
// sibling is the value of the rule's sibling field ("" if absent).
func (r *opaqueRule) proves(v, sibling string) bool {
	switch r.kind {
	case opaqueDataURL:
		return isMediaDataURL(v)
	case opaqueMedia:
		b, ok := decodeStdBase64(v)
		return ok && magicMatches(mediaTypeOf(sibling), b)
	case opaqueBlob:
		b, ok := decodeStdBase64(v)
		return ok && looksEncrypted(b)
	case opaqueBase64:
		_, ok := decodeStdBase64(v)
		return ok
	case opaqueEmbedding:
		b, ok := decodeStdBase64(v)
		return ok && len(b)%4 == 0
	}
	return false
}

// isMediaDataURL reports whether v is an RFC 2397 data URL with a
// media type, base64 data that decodes, and bytes that start with the
// magic of a binary type the gateway knows (image, PDF, audio). Text
// types, unknown types and anything malformed are not opaque: they are
// scanned.
func isMediaDataURL(v string) bool {
	rest, ok := strings.CutPrefix(v, "data:")
	if !ok {
		return false
	}
	meta, data, ok := strings.Cut(rest, ",")
	if !ok {
		return false
	}
	meta, ok = strings.CutSuffix(meta, ";base64")
	if !ok || meta == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(meta)
	if err != nil {
		return false
	}
	b, ok := decodeStdBase64(data)
	return ok && magicMatches(mt, b)
}

// mediaTypeOf maps a sibling field's value to a media type: media_type
// is one already; an audio format (wav, mp3) becomes audio/<format>.
func mediaTypeOf(s string) string {
	if strings.Contains(s, "/") {
		return strings.ToLower(s)
	}
	switch strings.ToLower(s) {
	case "wav":
		return "audio/wav"
	case "mp3":
		return "audio/mpeg"
	}
	return ""
}

// magicMatches reports whether b starts with the magic bytes of media
// type mt. Only binary types with a fixed signature pass.
func magicMatches(mt string, b []byte) bool {
	switch mt {
	case "image/png":
		return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n"))
	case "image/jpeg", "image/jpg":
		return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF})
	case "image/gif":
		return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
	case "image/webp":
		return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	case "application/pdf":
		return bytes.HasPrefix(b, []byte("%PDF-"))
	case "audio/wav", "audio/x-wav", "audio/wave":
		return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WAVE"
	case "audio/mpeg", "audio/mp3":
		return bytes.HasPrefix(b, []byte("ID3")) || (len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0)
	}
	return false
}

// decodeStdBase64 decodes standard base64 with padding, the encoding the
// APIs use for media and blobs, refusing anything else (whitespace, the
// URL alphabet, missing padding).
func decodeStdBase64(s string) ([]byte, bool) {
	if len(s) == 0 || len(s)%4 != 0 {
		return nil, false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return b, err == nil
}

// looksEncrypted reports whether b looks like ciphertext or another
// high-entropy binary, not text a caller wrapped in base64 to slip it
// past the scanner: mostly non-printable bytes and, for longer blobs, a
// byte entropy close to 8 bits.
func looksEncrypted(b []byte) bool {
	if len(b) < 16 {
		return false
	}
	printable := 0
	var counts [256]int
	for _, c := range b {
		counts[c]++
		if c >= 0x20 && c < 0x7f || c == '\n' || c == '\r' || c == '\t' {
			printable++
		}
	}
	if float64(printable) > 0.6*float64(len(b)) {
		return false
	}
	if len(b) < 256 {
		return true
	}
	var h float64
	n := float64(len(b))
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h >= 7.0
}

// payloadText returns the text an opaque-position value carries when it
// fails its proof: the decoded data of a data URL (base64 or percent
// encoded) or of a base64 value, when that decodes to UTF-8 text. A
// model may read such text, so it is scanned.
func payloadText(v string) (string, bool) {
	if rest, ok := strings.CutPrefix(v, "data:"); ok {
		meta, data, ok := strings.Cut(rest, ",")
		if !ok {
			return "", false
		}
		var b []byte
		if strings.HasSuffix(meta, ";base64") {
			var err error
			if b, err = base64.StdEncoding.DecodeString(data); err != nil {
				if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(data, "=")); err != nil {
					return "", false
				}
			}
		} else {
			s, err := url.PathUnescape(data)
			if err != nil {
				return "", false
			}
			b = []byte(s)
		}
		return string(b), utf8.Valid(b)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "=")); err != nil {
			return "", false
		}
	}
	return string(b), utf8.Valid(b)
}
