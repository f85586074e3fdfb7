source "file" "out" {
  target  = "out.txt"
  content = <<EOT
convert("abc", number) = [${convert("abc", number)}]
EOT
}

build {
  sources = ["source.file.out"]
}
