// Command oracle prints, for every document of a YAML stream, the JSON value kubectl reads from
// it, or the error kubectl stops at. It reproduces what `kubectl apply -f` does with a file:
// k8s.io/apimachinery's YAMLReader cuts the stream into documents (copied below, as of
// Kubernetes 1.32, since apimachinery is not packaged), sigs.k8s.io/yaml converts each document
// to JSON through gopkg.in/yaml.v2, and documents whose JSON is empty or `null` are skipped.
//
// Output: one JSON line per document kubectl would read:
//   {"line":N,"json":VALUE}   or   {"line":N,"error":"MESSAGE"}
// where N is the 1-based line the document starts on. A separator error ends the stream, as it
// ends kubectl's.
//
// Build: GOPATH=/usr/share/gocode GO111MODULE=off go build -o oracle .
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

// lineReader is apimachinery's LineReader: a line without its "\n" or "\r\n", then "\n".
type lineReader struct{ reader *bufio.Reader }

func (r *lineReader) read() ([]byte, error) {
	var (
		isPrefix = true
		err      error
		line     []byte
		buffer   bytes.Buffer
	)
	for isPrefix && err == nil {
		line, isPrefix, err = r.reader.ReadLine()
		buffer.Write(line)
	}
	buffer.WriteByte('\n')
	return buffer.Bytes(), err
}

const separator = "---"

// readDocument is apimachinery's YAMLReader.Read, also returning the lines it consumed.
func readDocument(r *lineReader, consumed *int) ([]byte, int, error) {
	var buffer bytes.Buffer
	start := -1
	for {
		line, err := r.read()
		if err != nil && err != io.EOF {
			return nil, start, err
		}
		if err == nil {
			*consumed++
		}
		if i := bytes.Index(line, []byte(separator)); i == 0 {
			i += len(separator)
			trimmed := strings.TrimSpace(string(line[i:]))
			if len(trimmed) > 0 && string(trimmed[0]) != "#" {
				return nil, *consumed, fmt.Errorf("invalid Yaml document separator: %s", trimmed)
			}
			if buffer.Len() != 0 {
				return buffer.Bytes(), start, nil
			}
			if err == io.EOF {
				return nil, start, err
			}
		}
		if err == io.EOF {
			if buffer.Len() != 0 {
				return buffer.Bytes(), start, nil
			}
			return nil, start, err
		}
		if start < 0 {
			start = *consumed
		}
		buffer.Write(line)
	}
}

func main() {
	input := io.Reader(os.Stdin)
	if len(os.Args) > 1 {
		file, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer file.Close()
		input = file
	}
	reader := &lineReader{reader: bufio.NewReader(input)}
	out := json.NewEncoder(os.Stdout)
	consumed := 0
	for {
		document, line, err := readDocument(reader, &consumed)
		if err == io.EOF {
			return
		}
		if err != nil {
			out.Encode(map[string]interface{}{"line": line, "error": err.Error()})
			return
		}
		converted, err := yaml.YAMLToJSON(document)
		if err != nil {
			out.Encode(map[string]interface{}{"line": line, "error": err.Error()})
			continue
		}
		converted = bytes.TrimSpace(converted)
		if len(converted) == 0 || bytes.Equal(converted, []byte("null")) {
			continue
		}
		out.Encode(map[string]interface{}{"line": line, "json": json.RawMessage(converted)})
	}
}
