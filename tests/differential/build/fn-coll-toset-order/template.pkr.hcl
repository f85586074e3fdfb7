source "file" "out" {
  target  = "out.txt"
  content = <<EOT
convert(["b", "a", "c", "a"], set(string)) = [${jsonencode(convert(["b", "a", "c", "a"], set(string)))}]
convert([10, 9, 100, -1, 1.5, 0.25], set(number)) = [${jsonencode(convert([10, 9, 100, -1, 1.5, 0.25], set(number)))}]
convert(["B", "a", "_", "10", "9", "", "é"], set(string)) = [${jsonencode(convert(["B", "a", "_", "10", "9", "", "é"], set(string)))}]
convert([true, false, true], set(bool)) = [${jsonencode(convert([true, false, true], set(bool)))}]
${join(",", convert(["z", "y", "x"], set(string)))}
%{ for v in convert(["q", "p"], set(string)) }${v};%{ endfor }
EOT
}

build {
  sources = ["source.file.out"]
}
