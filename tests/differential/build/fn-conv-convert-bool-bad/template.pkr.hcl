source "file" "out" {
  target  = "out.txt"
  content = <<EOT
convert("yes", bool) = [${convert("yes", bool)}]
EOT
}

build {
  sources = ["source.file.out"]
}
