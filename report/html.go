package report

import (
	"bufio"
	"html"
	"io"
	"strings"
)

// htmlStyle is the page's only styling, inline: the page loads nothing.
const htmlStyle = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:76em;padding:0 1em;color:#1b1f24}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #d0d7de}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;width:100%}th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f5f7}td:empty{display:none}pre{background:#f6f8fa;padding:.7em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.more{color:#57606a}`

// renderHTML writes blocks as one self-contained HTML page. Every text
// is escaped; the page has no script and its content security policy
// allows nothing but its inline style.
func renderHTML(w io.Writer, title string, bs []block) error {
	bw := bufio.NewWriter(w)
	esc := html.EscapeString
	bw.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	bw.WriteString("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
	bw.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	bw.WriteString("<title>" + esc(title) + "</title>\n<style>" + htmlStyle + "</style>\n</head>\n<body>\n")
	for _, b := range bs {
		switch b.kind {
		case heading:
			tag := "h" + string(rune('0'+min(max(b.level, 1), 6)))
			bw.WriteString("<" + tag + ">" + esc(b.text) + "</" + tag + ">\n")
		case para:
			bw.WriteString("<p>" + esc(b.text) + "</p>\n")
		case code:
			bw.WriteString("<pre>" + esc(strings.TrimSuffix(b.text, "\n")) + "</pre>\n")
		case list:
			bw.WriteString("<ul>\n")
			for _, it := range b.items {
				bw.WriteString("<li>" + esc(it) + "</li>\n")
			}
			bw.WriteString("</ul>\n")
		case table:
			bw.WriteString("<table>\n")
			if strings.Join(b.head, "") != "" {
				bw.WriteString("<tr>")
				for _, h := range b.head {
					bw.WriteString("<th>" + esc(h) + "</th>")
				}
				bw.WriteString("</tr>\n")
			}
			for _, r := range b.rows {
				bw.WriteString("<tr>")
				for i, c := range r {
					if i == 0 && len(b.head) == 2 && b.head[0] == "" {
						bw.WriteString("<th>" + esc(c) + "</th>")
						continue
					}
					bw.WriteString("<td>" + esc(c) + "</td>")
				}
				bw.WriteString("</tr>\n")
			}
			bw.WriteString("</table>\n")
			if b.more > 0 {
				bw.WriteString("<p class=\"more\">" + esc(moreText(b.more)) + "</p>\n")
			}
		}
	}
	bw.WriteString("</body>\n</html>\n")
	return bw.Flush()
}
