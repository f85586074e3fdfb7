source "file" "out" {
  target  = "out.txt"
  content = <<EOT
"0x10" + 0 = [${"0x10" + 0}]
EOT
}

build {
  sources = ["source.file.out"]
}
