source "file" "out" {
  target  = "out.txt"
  content = <<EOT
slice(["a", "b", "c", "d"], 1, 3) = [${jsonencode(slice(["a", "b", "c", "d"], 1, 3))}]
slice(["a", "b", "c", "d"], 0, 0) = [${jsonencode(slice(["a", "b", "c", "d"], 0, 0))}]
slice(["a", "b", "c", "d"], 4, 4) = [${jsonencode(slice(["a", "b", "c", "d"], 4, 4))}]
slice(["a", "b", "c", "d"], 0, 4) = [${jsonencode(slice(["a", "b", "c", "d"], 0, 4))}]
slice([1, "x", true], 1, 2) = [${jsonencode(slice([1, "x", true], 1, 2))}]
EOT
}

build {
  sources = ["source.file.out"]
}
