source "file" "out" {
  target  = "out.txt"
  content = <<EOT
base64decode("/w==") = [${base64decode("/w==")}]
EOT
}

build {
  sources = ["source.file.out"]
}
