source "file" "out" {
  target  = "out.txt"
  content = <<EOT
max(1, 2.5, -3) = [${max(1, 2.5, -3)}]
min(1, 2.5, -3) = [${min(1, 2.5, -3)}]
min(-0, 0) = [${min(-0, 0)}]
max(1e30, 1e29) = [${max(1e30, 1e29)}]
min(5) = [${min(5)}]
max(-1.5, -1.25) = [${max(-1.5, -1.25)}]
max([3, 9, 2]...) = [${max([3, 9, 2]...)}]
min([0.1, 0.01]...) = [${min([0.1, 0.01]...)}]
max("12", 3) = [${max("12", 3)}]
EOT
}

build {
  sources = ["source.file.out"]
}
