source "file" "out" {
  target  = "out.txt"
  content = <<EOT
regex("x", "abc") = [${regex("x", "abc")}]
EOT
}

build {
  sources = ["source.file.out"]
}
