source "file" "out" {
  target  = "out.txt"
  content = <<EOT
base64sha256("hello") = [${base64sha256("hello")}]
EOT
}

build {
  sources = ["source.file.out"]
}
