source "file" "out" {
  target  = "out.txt"
  content = <<EOT
base64decode("aGVsbG8") = [${base64decode("aGVsbG8")}]
EOT
}

build {
  sources = ["source.file.out"]
}
