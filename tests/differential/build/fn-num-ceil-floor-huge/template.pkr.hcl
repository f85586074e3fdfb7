source "file" "out" {
  target  = "out.txt"
  content = <<EOT
floor(1e30) = [${floor(1e30)}]
ceil(-1e30) = [${ceil(-1e30)}]
floor(9007199254740993.5) = [${floor(9007199254740993.5)}]
ceil(1e19) = [${ceil(1e19)}]
floor(-9223372036854775809) = [${floor(-9223372036854775809)}]
EOT
}

build {
  sources = ["source.file.out"]
}
