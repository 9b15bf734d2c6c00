// Package assets holds the files the binary carries: the application icon.
package assets

import _ "embed"

// Icon is the l4case application icon (PNG, 256x256).
//
//go:embed icon.png
var Icon []byte
