source "file" "out" {
  target  = "out.txt"
  content = <<EOT
sum([]) = [${sum([])}]
EOT
}

build {
  sources = ["source.file.out"]
}
