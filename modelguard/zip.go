package modelguard

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Zip archives (PyTorch checkpoints, .npz, .keras) are read with
// archive/zip, and cross-checked against our own walk of the central
// directory and the local headers (APPNOTE.TXT 4.3): loaders disagree on
// archives whose local and central headers differ, whose entries overlap or
// share a name, so such archives are refused rather than guessed at.

const (
	sigLocal    = 0x04034b50
	sigCentral  = 0x02014b50
	sigEnd      = 0x06054b50
	sigEnd64    = 0x06064b50
	sigLocator  = 0x07064b50
	sigDataDesc = 0x08074b50
)

// cdEntry is one central directory record.
type cdEntry struct {
	name         string
	flags        uint16
	method       uint16
	crc          uint32
	csize, usize uint64
	localOff     uint64
	dataOff      uint64 // computed from the local header
	end          uint64 // end of data, and of the data descriptor if any
}

type zipProblem struct {
	rule, member, msg string
	off               int64
}

func (s *Scanner) scanZip(ctx context.Context, ra io.ReaderAt, size int64, rep *FileReport) {
	add := func(p zipProblem) {
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: p.rule,
			Member: printable(p.member), Offset: p.off, Message: p.msg})
	}
	entries, probs := s.walkCentral(ra, size)
	for _, p := range probs {
		add(p)
	}
	if len(probs) > 0 {
		return
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		add(zipProblem{rule: "zip.malformed", off: -1, msg: "archive/zip rejects the archive: " + zipErrText(err)})
		return
	}
	if len(zr.File) != len(entries) {
		add(zipProblem{rule: "zip.malformed", off: -1, msg: "central directory entry count disagrees between readers"})
		return
	}
	byName := make(map[string]*cdEntry, len(entries))
	for i := range entries {
		byName[entries[i].name] = &entries[i]
	}
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return
		}
		e, ok := byName[f.Name]
		if !ok {
			add(zipProblem{rule: "zip.malformed", member: f.Name, off: -1, msg: "member names disagree between readers"})
			return
		}
		s.scanMember(f, e, rep)
	}
}

func zipErrText(err error) string {
	switch {
	case errors.Is(err, zip.ErrFormat):
		return "not a valid zip file"
	case errors.Is(err, zip.ErrAlgorithm):
		return "unsupported compression algorithm"
	case errors.Is(err, zip.ErrChecksum):
		return "checksum error"
	}
	return "read error"
}

// walkCentral parses the end-of-central-directory records, the central
// directory and every local header, and checks them against each other.
func (s *Scanner) walkCentral(ra io.ReaderAt, size int64) ([]cdEntry, []zipProblem) {
	bad := func(member string, off int64, format string, args ...any) []zipProblem {
		return []zipProblem{{rule: "zip.malformed", member: member, off: off, msg: fmt.Sprintf(format, args...)}}
	}
	const eocdLen = 22
	if size < eocdLen {
		return nil, bad("", 0, "archive shorter than an end-of-central-directory record")
	}
	tailLen := min(size, eocdLen+65535)
	tail := make([]byte, tailLen)
	if _, err := ra.ReadAt(tail, size-tailLen); err != nil {
		return nil, bad("", size-tailLen, "cannot read archive tail")
	}
	eocd := int64(-1)
	for i := len(tail) - eocdLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(tail[i:]) == sigEnd {
			commentLen := int(binary.LittleEndian.Uint16(tail[i+20:]))
			if i+eocdLen+commentLen == len(tail) {
				eocd = size - tailLen + int64(i)
				break
			}
		}
	}
	if eocd < 0 {
		return nil, bad("", -1, "no end-of-central-directory record at the end of the file")
	}
	e := tail[eocd-(size-tailLen):]
	le16 := binary.LittleEndian.Uint16
	le32 := binary.LittleEndian.Uint32
	le64 := binary.LittleEndian.Uint64
	if le16(e[4:]) != 0 || le16(e[6:]) != 0 || le16(e[8:]) != le16(e[10:]) {
		return nil, bad("", eocd, "multi-disk archives are not supported")
	}
	count := uint64(le16(e[10:]))
	cdSize := uint64(le32(e[12:]))
	cdOff := uint64(le32(e[16:]))
	cdEnd := uint64(eocd) // where the central directory must end
	saturated := count == 0xffff || cdSize == 0xffffffff || cdOff == 0xffffffff
	var loc [20]byte
	hasLocator := eocd >= 20
	if hasLocator {
		_, err := ra.ReadAt(loc[:], eocd-20)
		hasLocator = err == nil && le32(loc[:]) == sigLocator
	}
	if saturated && !hasLocator {
		return nil, bad("", eocd, "zip64 locator missing")
	}
	if hasLocator {
		// Zip64 end records: they must sit right before the locator and
		// agree with every field of the classic record that is not saturated,
		// or two readers could see two different archives.
		off64 := le64(loc[8:])
		if le32(loc[4:]) != 0 || le32(loc[16:]) != 1 || off64 > uint64(eocd-20) || uint64(eocd-20)-off64 < 56 {
			return nil, bad("", eocd-20, "zip64 locator out of range")
		}
		var r [56]byte
		if _, err := ra.ReadAt(r[:], int64(off64)); err != nil || le32(r[:]) != sigEnd64 {
			return nil, bad("", int64(off64), "zip64 end record missing")
		}
		if 12+le64(r[4:]) != uint64(eocd-20)-off64 {
			return nil, bad("", int64(off64), "zip64 end record size does not reach the locator")
		}
		if le32(r[16:]) != 0 || le32(r[20:]) != 0 || le64(r[24:]) != le64(r[32:]) {
			return nil, bad("", int64(off64), "multi-disk archives are not supported")
		}
		c64, s64, o64 := le64(r[32:]), le64(r[40:]), le64(r[48:])
		if (count != 0xffff && count != c64) || (cdSize != 0xffffffff && cdSize != s64) || (cdOff != 0xffffffff && cdOff != o64) {
			return nil, bad("", int64(off64), "zip64 end record disagrees with the end-of-central-directory record")
		}
		count, cdSize, cdOff = c64, s64, o64
		cdEnd = off64
	}
	if count > uint64(s.cfg.MaxZipEntries) {
		return nil, []zipProblem{{rule: "zip.limit", off: eocd, msg: fmt.Sprintf("more than %d entries (MaxZipEntries)", s.cfg.MaxZipEntries)}}
	}
	if cdOff > cdEnd || cdSize != cdEnd-cdOff {
		return nil, bad("", eocd, "central directory does not end where the end record begins (prepended or hidden data)")
	}
	if cdSize > 1<<30 {
		return nil, bad("", int64(cdOff), "central directory larger than 1 GiB")
	}
	cd := make([]byte, cdSize)
	if _, err := ra.ReadAt(cd, int64(cdOff)); err != nil {
		return nil, bad("", int64(cdOff), "cannot read central directory")
	}
	entries := make([]cdEntry, 0, count)
	seen := map[string]bool{}
	var probs []zipProblem
	p := cd
	for i := uint64(0); i < count; i++ {
		at := int64(cdOff) + int64(len(cd)-len(p))
		if len(p) < 46 || le32(p) != sigCentral {
			return nil, bad("", at, "central directory record %d malformed", i)
		}
		nameLen, extraLen, commentLen := int(le16(p[28:])), int(le16(p[30:])), int(le16(p[32:]))
		if len(p) < 46+nameLen+extraLen+commentLen {
			return nil, bad("", at, "central directory record %d truncated", i)
		}
		ent := cdEntry{
			name: string(p[46 : 46+nameLen]), flags: le16(p[8:]), method: le16(p[10:]),
			crc: le32(p[16:]), csize: uint64(le32(p[20:])), usize: uint64(le32(p[24:])),
			localOff: uint64(le32(p[42:])),
		}
		if le16(p[34:]) != 0 {
			return nil, bad(ent.name, at, "member on another disk")
		}
		if err := applyZip64(&ent, p[46+nameLen:46+nameLen+extraLen]); err != nil {
			return nil, bad(ent.name, at, "%v", err)
		}
		p = p[46+nameLen+extraLen+commentLen:]
		if pr := checkName(ent.name); pr != "" {
			probs = append(probs, zipProblem{rule: "zip.traversal", member: ent.name, off: at, msg: pr})
		}
		if seen[ent.name] {
			probs = append(probs, zipProblem{rule: "zip.duplicate", member: ent.name, off: at, msg: "two members share this name"})
		}
		seen[ent.name] = true
		if ent.flags&1 != 0 {
			probs = append(probs, zipProblem{rule: "zip.encrypted", member: ent.name, off: at, msg: "encrypted member cannot be scanned"})
		}
		switch ent.method {
		case zip.Store:
			if ent.csize != ent.usize {
				probs = append(probs, zipProblem{rule: "zip.malformed", member: ent.name, off: at, msg: "stored member whose sizes differ"})
			}
		case zip.Deflate:
		default:
			probs = append(probs, zipProblem{rule: "zip.method", member: ent.name, off: at,
				msg: fmt.Sprintf("compression method %d: only store and deflate are accepted", ent.method)})
		}
		if ent.usize > uint64(s.cfg.MaxZipEntrySize) {
			probs = append(probs, zipProblem{rule: "zip.limit", member: ent.name, off: at,
				msg: fmt.Sprintf("uncompressed size above %d (MaxZipEntrySize)", s.cfg.MaxZipEntrySize)})
		}
		entries = append(entries, ent)
	}
	if len(p) != 0 {
		return nil, bad("", int64(cdOff+cdSize)-int64(len(p)), "bytes left over in the central directory")
	}
	if len(probs) > 0 {
		return nil, probs
	}
	// Local headers: must agree with the central directory, lie before it,
	// and tile [0, cdOff) without overlaps or unexplained gaps.
	for i := range entries {
		ent := &entries[i]
		if pr := readLocal(ra, ent, cdOff); pr != "" {
			return nil, bad(ent.name, int64(ent.localOff), "%s", pr)
		}
	}
	order := make([]*cdEntry, len(entries))
	for i := range entries {
		order[i] = &entries[i]
	}
	sort.Slice(order, func(i, j int) bool { return order[i].localOff < order[j].localOff })
	var pos uint64
	for _, ent := range order {
		if ent.localOff < pos {
			return nil, []zipProblem{{rule: "zip.overlap", member: ent.name, off: int64(ent.localOff), msg: "member overlaps the previous member"}}
		}
		if ent.localOff != pos {
			return nil, bad(ent.name, int64(pos), "%d unaccounted bytes before this member", ent.localOff-pos)
		}
		pos = ent.end
	}
	if pos != cdOff {
		return nil, bad("", int64(pos), "%d unaccounted bytes before the central directory", int64(cdOff)-int64(pos))
	}
	return entries, nil
}

// applyZip64 replaces saturated sizes and offsets from the zip64 extra field.
func applyZip64(ent *cdEntry, extra []byte) error {
	needU, needC, needO := ent.usize == 0xffffffff, ent.csize == 0xffffffff, ent.localOff == 0xffffffff
	for len(extra) >= 4 {
		id, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		if len(extra) < 4+n {
			return errors.New("extra field truncated")
		}
		b := extra[4 : 4+n]
		extra = extra[4+n:]
		if id != 0x0001 {
			continue
		}
		take := func(need bool, v *uint64) error {
			if !need {
				return nil
			}
			if len(b) < 8 {
				return errors.New("zip64 extra field too short")
			}
			*v = binary.LittleEndian.Uint64(b)
			b = b[8:]
			return nil
		}
		if err := take(needU, &ent.usize); err != nil {
			return err
		}
		if err := take(needC, &ent.csize); err != nil {
			return err
		}
		if err := take(needO, &ent.localOff); err != nil {
			return err
		}
		needU, needC, needO = false, false, false
	}
	if needU || needC || needO {
		return errors.New("zip64 sizes announced but no zip64 extra field")
	}
	return nil
}

// checkName rejects names that escape the extraction directory or that
// loaders normalise differently.
func checkName(name string) string {
	switch {
	case name == "":
		return "empty member name"
	case strings.ContainsAny(name, "\x00\\"):
		return "member name contains a NUL or backslash"
	case strings.HasPrefix(name, "/"), len(name) > 1 && name[1] == ':':
		return "absolute member name"
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "member name escapes the archive root (..)"
		}
	}
	return ""
}

// readLocal reads ent's local header, checks it and sets dataOff and end.
func readLocal(ra io.ReaderAt, ent *cdEntry, cdOff uint64) string {
	if ent.localOff+30 > cdOff {
		return "local header beyond the central directory"
	}
	var h [30]byte
	if _, err := ra.ReadAt(h[:], int64(ent.localOff)); err != nil {
		return "cannot read local header"
	}
	le16 := binary.LittleEndian.Uint16
	le32 := binary.LittleEndian.Uint32
	if le32(h[:]) != sigLocal {
		return "local header signature missing"
	}
	nameLen, extraLen := uint64(le16(h[26:])), uint64(le16(h[28:]))
	if le16(h[6:]) != ent.flags || le16(h[8:]) != ent.method {
		return "local header flags or method differ from the central directory"
	}
	name := make([]byte, nameLen)
	if _, err := ra.ReadAt(name, int64(ent.localOff)+30); err != nil || string(name) != ent.name {
		return "local header name differs from the central directory"
	}
	if ent.flags&8 == 0 {
		lc, lu := uint64(le32(h[18:])), uint64(le32(h[22:]))
		if le32(h[14:]) != ent.crc {
			return "local header CRC differs from the central directory"
		}
		if (lc != ent.csize && lc != 0xffffffff) || (lu != ent.usize && lu != 0xffffffff) {
			return "local header sizes differ from the central directory"
		}
	}
	ent.dataOff = ent.localOff + 30 + nameLen + extraLen
	end := ent.dataOff + ent.csize
	if end < ent.dataOff || end > cdOff {
		return "member data extends beyond the central directory"
	}
	if ent.flags&8 != 0 {
		// Data descriptor (APPNOTE 4.3.9): an optional signature, the CRC,
		// then the sizes in 4 or 8 bytes each. The sizes must equal the
		// central directory's, which also tells the two layouts apart.
		var d [28]byte
		n, _ := ra.ReadAt(d[:], int64(end))
		dd := d[:n]
		if len(dd) >= 4 && binary.LittleEndian.Uint32(dd) == sigDataDesc {
			end += 4
			dd = dd[4:]
		}
		if len(dd) < 12 || binary.LittleEndian.Uint32(dd) != ent.crc {
			return "data descriptor missing or CRC differs"
		}
		switch {
		case uint64(le32(dd[4:])) == ent.csize && uint64(le32(dd[8:])) == ent.usize:
			end += 12
		case len(dd) >= 20 && binary.LittleEndian.Uint64(dd[4:]) == ent.csize && binary.LittleEndian.Uint64(dd[12:]) == ent.usize:
			end += 20
		default:
			return "data descriptor sizes differ from the central directory"
		}
		if end > cdOff {
			return "data descriptor extends beyond the central directory"
		}
	}
	ent.end = end
	return ""
}

// scanMember dispatches one member by its content, whatever its name.
func (s *Scanner) scanMember(f *zip.File, ent *cdEntry, rep *FileReport) {
	if f.FileInfo().IsDir() {
		return
	}
	rc, err := f.Open()
	if err != nil {
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "zip.malformed",
			Member: printable(ent.name), Offset: -1, Message: "cannot open member: " + zipErrText(err)})
		return
	}
	defer rc.Close()
	br := bufio.NewReaderSize(&zipErrReader{rc}, 64<<10)
	head, _ := br.Peek(16)
	member := printable(ent.name)
	base := path.Base(ent.name)
	readsAll := isPickleStart(head) || bytes.HasPrefix(head, []byte("\x93NUMPY"))
	if readsAll && ent.method == zip.Deflate && ent.usize > 1<<20 &&
		(ent.csize == 0 || ent.usize/ent.csize > uint64(s.cfg.MaxZipRatio)) {
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "zip.bomb",
			Member: member, Offset: -1, Message: fmt.Sprintf("compression ratio above %d (MaxZipRatio)", s.cfg.MaxZipRatio)})
		return
	}
	switch {
	case isPickleStart(head):
		strict := strings.HasSuffix(base, ".pkl") || strings.HasSuffix(base, ".pickle")
		res := scanPickleStream(br, s.allow, s.pickleLimits(), member, 0)
		s.addPickle(res, strict, member, rep)
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		s.scanNpy(br, member, rep)
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("7z\xbc\xaf\x27\x1c")):
		rep.Findings = append(rep.Findings, Finding{Kind: KindInvalid, Severity: SeverityHigh, Rule: "zip.nested",
			Member: member, Offset: 0, Message: "nested archive is not scanned"})
	case base == "config.json":
		s.scanKerasConfig(br, member, rep)
	}
}

// zipErrReader hides archive/zip's error text (it may quote names).
type zipErrReader struct{ r io.Reader }

func (z *zipErrReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if err != nil && err != io.EOF {
		err = errors.New(zipErrText(err))
	}
	return n, err
}
