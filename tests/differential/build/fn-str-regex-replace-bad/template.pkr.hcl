source "file" "out" {
  target  = "out.txt"
  content = <<EOT
regex_replace("a", "(", "b") = [${regex_replace("a", "(", "b")}]
EOT
}

build {
  sources = ["source.file.out"]
}
