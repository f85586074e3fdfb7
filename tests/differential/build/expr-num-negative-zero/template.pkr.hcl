source "file" "out" {
  content = <<EOT
negzero=${-0} ${0 * -1} ${-0.0} ${-0 + 0}
EOT
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
