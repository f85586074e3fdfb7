{
  "variables": {
    "version": "{{env `GIT_COMMIT`}}",
    "postgresql_password": "{{env `NYC_TREES_DB_PASSWORD`}}",
    "aws_region": "us-east-1",
    "aws_instance_type": "m3.large",
    "aws_ssh_username": "ubuntu",
    "aws_ubuntu_ami": ""
  },
  "builders": [
    {
      "name": "nyc-trees-monitoring",
      "type": "null",
      "communicator": "none"
    },
    {
      "name": "nyc-trees-tiler",
      "type": "null",
      "communicator": "none"
    },
    {
      "name": "nyc-trees-app",
      "type": "null",
      "communicator": "none"
    }
  ],
  "provisioners": [
    {
      "type": "shell",
      "inline": [
        "sleep 5",
        "sudo apt-get update -qq",
        "sudo apt-get install python-pip python-dev -y",
        "sudo pip install ansible==1.8.2"
      ]
    },
    {
      "type": "ansible-local",
      "playbook_file": "ansible/monitoring-servers.yml",
      "playbook_dir": "ansible",
      "inventory_file": "ansible/inventory/packer-monitoring-server",
      "only": [
        "nyc-trees-monitoring"
      ]
    },
    {
      "type": "ansible-local",
      "playbook_file": "ansible/tile-servers.yml",
      "playbook_dir": "ansible",
      "inventory_file": "ansible/inventory/packer-tile-server",
      "extra_arguments": [
        "--extra-vars 'tiler_deploy_branch={{user `version`}} postgresql_password={{user `postgresql_password`}}'"
      ],
      "only": [
        "nyc-trees-tiler"
      ]
    },
    {
      "type": "ansible-local",
      "playbook_file": "ansible/app-servers.yml",
      "playbook_dir": "ansible",
      "inventory_file": "ansible/inventory/packer-app-server",
      "extra_arguments": [
        "--extra-vars 'app_deploy_branch={{user `version`}} postgresql_password={{user `postgresql_password`}}'"
      ],
      "only": [
        "nyc-trees-app"
      ]
    }
  ]
}
