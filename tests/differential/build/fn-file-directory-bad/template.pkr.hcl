source "file" "out" {
  target  = "out.txt"
  content = <<EOT
file("data") = [${file("data")}]
EOT
}

build {
  sources = ["source.file.out"]
}
