locals {
  docs = [
    "[0x10, 010, 1e3, 1_000, .5, +1, -2.5, 1.0, '1', 0b11, -x, 0o17, 1e, .]",
    "[2001-12-14, 2001-12-14T21:59:43.10+01:00, 2001-12-14 21:59:43.10, 2001-12-14t21:59:43Z, 2001-1-2, 2001-12-14T21:59:43-00:00]",
    "[!!str 1, !!int '7', !!bool yes, !!float '1.5', !!null '', !!str yes, !!binary aGVsbG8=]",
    "a: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  e: 2\n",
    "base: &b\n  x: 1\n  y: 2\nover:\n  <<: *b\n  y: 3\n",
    "[yes, Yes, YES, yEs, on, oN, Off, y, n, t, f, true, tRue]",
    "k: >\n  folded\n  text\n\n  para\n",
    "k: |-\n  keep\n  no newline\n",
    "'single ''quoted'''",
    "\"double \\t \\u00e9\"",
    "{1: a, 2.5: b, true: c, null_: d}",
    "[[], {}, [[]], {a: {}}]",
    "plain text with spaces",
    "- a\n- - b\n  - c\n- d: e\n  f: g\n",
    "key: value # comment\nother: 'x' # another\n",
    "a: 1\na: 2\n",
  ]
}
source "file" "out" {
  target  = "out.txt"
  content = join("\n", [for d in local.docs : jsonencode(yamldecode(d))])
}

build {
  sources = ["source.file.out"]
}
