source "file" "out" {
  target  = "out.txt"
  content = <<EOT
parseint("1", 1) = [${parseint("1", 1)}]
EOT
}

build {
  sources = ["source.file.out"]
}
