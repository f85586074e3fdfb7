variable "name" {
  type    = string
  default = "default"
}
variable "tags" {
  type    = list(string)
  default = []
}
variable "level" {
  type    = number
  default = 0
}
