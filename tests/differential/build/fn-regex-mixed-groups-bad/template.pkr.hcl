source "file" "out" {
  target  = "out.txt"
  content = <<EOT
regex("(?P<n>a)(b)", "ab") = [${jsonencode(regex("(?P<n>a)(b)", "ab"))}]
EOT
}

build {
  sources = ["source.file.out"]
}
