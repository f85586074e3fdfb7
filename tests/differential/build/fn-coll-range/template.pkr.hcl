source "file" "out" {
  target  = "out.txt"
  content = <<EOT
range(3) = [${jsonencode(range(3))}]
range(1, 4) = [${jsonencode(range(1, 4))}]
range(0) = [${jsonencode(range(0))}]
range(5, 1) = [${jsonencode(range(5, 1))}]
range(0, 1, 0.25) = [${jsonencode(range(0, 1, 0.25))}]
range(1, 0, -0.25) = [${jsonencode(range(1, 0, -0.25))}]
range(-3) = [${jsonencode(range(-3))}]
range(0, -3) = [${jsonencode(range(0, -3))}]
range(1, 10, 3) = [${jsonencode(range(1, 10, 3))}]
range(10, 1, -3) = [${jsonencode(range(10, 1, -3))}]
range(0, 0.3, 0.1) = [${jsonencode(range(0, 0.3, 0.1))}]
range(2.5) = [${jsonencode(range(2.5))}]
EOT
}

build {
  sources = ["source.file.out"]
}
