source "file" "out" {
  target  = "out.txt"
  content = <<EOT
[${pow(-8, 1/3)}]
EOT
}
build {
  sources = ["source.file.out"]
}
