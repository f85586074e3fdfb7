source "file" "out" {
  target  = "out.txt"
  content = <<EOT
base64decode("not base64!") = [${base64decode("not base64!")}]
EOT
}

build {
  sources = ["source.file.out"]
}
