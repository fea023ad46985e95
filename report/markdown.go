package report

import (
	"bufio"
	"io"
	"strings"
)

// renderMarkdown writes blocks as GitHub-flavoured Markdown. Every text
// from the log or the configuration is escaped, so a name cannot open
// a table cell, a link or HTML.
func renderMarkdown(w io.Writer, bs []block) error {
	bw := bufio.NewWriter(w)
	for i, b := range bs {
		if i > 0 {
			bw.WriteString("\n")
		}
		switch b.kind {
		case heading:
			bw.WriteString(strings.Repeat("#", b.level) + " " + mdCell(b.text) + "\n")
		case para:
			bw.WriteString(mdText(b.text) + "\n")
		case code:
			fence := "```"
			for strings.Contains(b.text, fence) {
				fence += "`"
			}
			bw.WriteString(fence + "\n" + strings.TrimSuffix(b.text, "\n") + "\n" + fence + "\n")
		case list:
			for _, it := range b.items {
				bw.WriteString("- " + mdText(it) + "\n")
			}
		case table:
			row := func(cells []string) {
				bw.WriteString("|")
				for _, c := range cells {
					bw.WriteString(" " + mdCell(c) + " |")
				}
				bw.WriteString("\n")
			}
			row(b.head)
			bw.WriteString("|" + strings.Repeat(" --- |", len(b.head)) + "\n")
			for _, r := range b.rows {
				row(r)
			}
			if b.more > 0 {
				bw.WriteString("\n" + mdText(moreText(b.more)) + "\n")
			}
		}
	}
	return bw.Flush()
}

func moreText(n int) string {
	return "… and " + itoa(int64(n)) + " more rows: see --format json or csv."
}

// mdText escapes s for a Markdown paragraph or list item: as mdCell,
// and a leading #, + or - (which would start a heading or a list) is
// escaped too.
func mdText(s string) string { return mdEscape(s, true) }

// mdCell escapes s for a table cell or after a heading's #s: newlines
// become spaces; backslash, pipe, backtick, star, tilde, brackets,
// angle brackets and ampersand are escaped; an underscore is escaped
// unless it sits between two letters or digits (where it cannot
// emphasise), so EMAIL_ADDRESS stays readable.
func mdCell(s string) string { return mdEscape(s, false) }

func mdEscape(s string, lineStart bool) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	alnum := func(i int) bool {
		if i < 0 || i >= len(s) {
			return false
		}
		c := s[i]
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\n', '\r':
			b.WriteByte(' ')
		case '\\', '|', '`', '*', '[', ']', '#', '~':
			if c == '#' && (i > 0 || !lineStart) {
				b.WriteByte(c)
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(c)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '_':
			if alnum(i-1) && alnum(i+1) {
				b.WriteByte(c)
			} else {
				b.WriteString(`\_`)
			}
		case '+', '-':
			if i == 0 && lineStart {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
