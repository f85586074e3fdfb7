source "file" "out" {
  target  = "out.txt"
  content = <<EOT
" 1" + 0 = [${" 1" + 0}]
EOT
}

build {
  sources = ["source.file.out"]
}
