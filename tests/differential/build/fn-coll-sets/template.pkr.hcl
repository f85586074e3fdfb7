source "file" "out" {
  target  = "out.txt"
  content = <<EOT
setintersection(["a", "b"], ["b", "c"]) = [${jsonencode(setintersection(["a", "b"], ["b", "c"]))}]
setunion(["b", "a"], ["c", "a"]) = [${jsonencode(setunion(["b", "a"], ["c", "a"]))}]
setproduct(["a", "b"], ["1", "2"]) = [${jsonencode(setproduct(["a", "b"], ["1", "2"]))}]
setintersection([], ["a"]) = [${jsonencode(setintersection([], ["a"]))}]
setunion([10, 9], [100, -1]) = [${jsonencode(setunion([10, 9], [100, -1]))}]
setproduct([], ["a"]) = [${jsonencode(setproduct([], ["a"]))}]
setproduct(["x"], [1, 2], [true]) = [${jsonencode(setproduct(["x"], [1, 2], [true]))}]
setunion([]) = [${jsonencode(setunion([]))}]
setintersection(["a", "b", "c"], ["c", "b"], ["b"]) = [${jsonencode(setintersection(["a", "b", "c"], ["c", "b"], ["b"]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
