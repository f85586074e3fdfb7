source "file" "out" {
  target  = "out.txt"
  content = <<EOT
ceil(1.1) = [${ceil(1.1)}]
ceil(-1.1) = [${ceil(-1.1)}]
ceil(-0.5) = [${ceil(-0.5)}]
ceil(5) = [${ceil(5)}]
ceil(0.0000001) = [${ceil(0.0000001)}]
floor(1.9) = [${floor(1.9)}]
floor(-1.1) = [${floor(-1.1)}]
floor(-0.5) = [${floor(-0.5)}]
floor(5) = [${floor(5)}]
floor(-1e-30) = [${floor(-1e-30)}]
floor(1e-30) = [${floor(1e-30)}]
ceil(1/3) = [${ceil(1/3)}]
floor(-1/3) = [${floor(-1/3)}]
EOT
}

build {
  sources = ["source.file.out"]
}
