"""The roles as data (DESIGN habit 5). A migration seeds them; scope checks read the table, not this file.

actions: view — see rows in scope; change — create and edit them; reveal — see full ID numbers and
phones (logged). self_only — the grant covers only the user's own Worker record and its rows.
"""

ROLES = [
    {"code": "civil_affairs", "name": "民政管理员", "actions": ["view", "change", "reveal"], "self_only": False, "sort": 10},
    {"code": "street_admin", "name": "街道管理员", "actions": ["view", "change", "reveal"], "self_only": False, "sort": 20},
    {"code": "community_admin", "name": "社区管理员", "actions": ["view", "change", "reveal"], "self_only": False, "sort": 30},
    {"code": "training_admin", "name": "培训管理员", "actions": ["view"], "self_only": False, "sort": 40},
    {"code": "worker", "name": "社区工作者", "actions": ["view", "reveal"], "self_only": True, "sort": 50},
]
