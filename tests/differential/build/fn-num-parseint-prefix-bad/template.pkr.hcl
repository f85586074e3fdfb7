source "file" "out" {
  target  = "out.txt"
  content = <<EOT
parseint("0x10", 16) = [${parseint("0x10", 16)}]
EOT
}

build {
  sources = ["source.file.out"]
}
