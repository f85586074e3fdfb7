source "file" "out" {
  target  = "out.txt"
  content = <<EOT
[${indent(2, "a\nb\n")}]
[${indent(0, "a\nb")}]
[${indent(4, "single")}]
[${indent(2, "a\n\nb")}]
[${indent(2, "")}]
[${indent(3, "\n")}]
[${indent(2, "a\r\nb")}]
EOT
}

build {
  sources = ["source.file.out"]
}
