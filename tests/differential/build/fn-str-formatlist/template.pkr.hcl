source "file" "out" {
  target  = "out.txt"
  content = <<EOT
formatlist("%s=%d", ["a", "b"], [1, 2]) = [${jsonencode(formatlist("%s=%d", ["a", "b"], [1, 2]))}]
formatlist("x-%s", ["a", "b", "c"]) = [${jsonencode(formatlist("x-%s", ["a", "b", "c"]))}]
formatlist("%s/%s", "root", ["a", "b"]) = [${jsonencode(formatlist("%s/%s", "root", ["a", "b"]))}]
formatlist("%s", []) = [${jsonencode(formatlist("%s", []))}]
formatlist("const") = [${jsonencode(formatlist("const"))}]
formatlist("%05.1f", [1, 22.25]) = [${jsonencode(formatlist("%05.1f", [1, 22.25]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
