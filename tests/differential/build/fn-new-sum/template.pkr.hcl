source "file" "out" {
  target  = "out.txt"
  content = <<EOT
sum([1, 2.5]) = [${sum([1, 2.5])}]
sum([-1]) = [${sum([-1])}]
sum(["1", 2]) = [${sum(["1", 2])}]
sum([0.1, 0.2]) = [${sum([0.1, 0.2])}]
sum([1e30, 1]) = [${sum([1e30, 1])}]
sum(setunion([3], [1])) = [${sum(setunion([3], [1]))}]
EOT
}

build {
  sources = ["source.file.out"]
}
