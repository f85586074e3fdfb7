source "file" "out" {
  content = <<EOT
eq=${1 == 1.0} ${"1" == 1} ${"a" == "a"} ${[1, 2] == [1, 2]} ${{ a = 1 } == { a = 1 }} ${null == null} ${true == "true"}
ne=${1 != 2} ${"a" != "A"} ${[] != []}
lt=${1 < 2} ${2 <= 2} ${3 > 4} ${-1 >= -1} ${0.1 + 0.2 > 0.3} ${0.1 + 0.2 == 0.3}
logic=${true && false} ${true || false} ${!true} ${!false && true || false}
EOT
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
