source "file" "out" {
  target  = "out.txt"
  content = <<EOT
formatlist("%s%s", ["a", "b"], ["c"]) = [${formatlist("%s%s", ["a", "b"], ["c"])}]
EOT
}

build {
  sources = ["source.file.out"]
}
