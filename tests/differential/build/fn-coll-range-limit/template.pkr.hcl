source "file" "out" {
  target  = "out.txt"
  content = <<EOT
length(range(1024)) = [${length(range(1024))}]
length(range(0, 102.3, 0.1)) = [${length(range(0, 102.3, 0.1))}]
element(range(0, 1, 0.1), 9) = [${element(range(0, 1, 0.1), 9)}]
range(0, 1, 0.3) = [${jsonencode(range(0, 1, 0.3))}]
range(0, -1, -0.3) = [${jsonencode(range(0, -1, -0.3))}]
EOT
}

build {
  sources = ["source.file.out"]
}
