source "file" "out" {
  target  = "out.txt"
  content = <<EOT
file("data/nope.txt") = [${file("data/nope.txt")}]
EOT
}

build {
  sources = ["source.file.out"]
}
