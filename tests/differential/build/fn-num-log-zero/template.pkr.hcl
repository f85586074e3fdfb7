source "file" "out" {
  target  = "out.txt"
  content = <<EOT
log(0, 10) = [${log(0, 10)}]
EOT
}

build {
  sources = ["source.file.out"]
}
