source "file" "out" {
  target  = "out.txt"
  content = <<EOT
${yamlencode(["#x", "- x", "a:b", "a: b", "a #b", " lead", "trail ", "true", "no", "on", "1e3", "0x1F", "012", "~", "null", "", "*x", "&x", "!x", "%x", "@x", "`x", "{x}", "[x]", "x,y", "?", "-", "'q'", "\"d\"", "tab\tin"])}
EOT
}
build {
  sources = ["source.file.out"]
}
