source "file" "out" {
  target  = "out.txt"
  content = <<EOT
concat() = [${jsonencode(concat())}]
EOT
}

build {
  sources = ["source.file.out"]
}
