source "file" "out" {
  target  = "out.txt"
  content = <<EOT
parseint("12.5", 10) = [${parseint("12.5", 10)}]
EOT
}

build {
  sources = ["source.file.out"]
}
