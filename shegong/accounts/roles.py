"""The roles as data (DESIGN habit 5). A migration seeds them; scope checks read the table, not this file.

actions: view — see rows in scope; change — create and edit them; reveal — see full ID numbers and
phones (logged). self_only — the grant covers only the user's own Worker record and its rows.

rank (issue 11, point 7): who may hand out which role. An administrator — a grant whose role may
`change` — manages accounts inside that grant's subtree and may grant there any role whose rank is not
above the grant's own: 民政管理员 40 > 街道管理员 30 > 社区管理员 20 > 社区工作者 10. 培训管理员 stands
beside the street administrator at 30: training is planned by the locality (7.2, 各地…纳入本地人才发展规划),
so a street administrator or a civil-affairs administrator appoints one, a community administrator does
not; being view-only, a training administrator manages no accounts itself.
"""

ROLES = [
    {"code": "civil_affairs", "name": "民政管理员", "actions": ["view", "change", "reveal"], "self_only": False, "sort": 10,
     "rank": 40},
    {"code": "street_admin", "name": "街道管理员", "actions": ["view", "change", "reveal"], "self_only": False, "sort": 20,
     "rank": 30},
    {"code": "community_admin", "name": "社区管理员", "actions": ["view", "change", "reveal"], "self_only": False,
     "sort": 30, "rank": 20},
    {"code": "training_admin", "name": "培训管理员", "actions": ["view"], "self_only": False, "sort": 40, "rank": 30},
    {"code": "worker", "name": "社区工作者", "actions": ["view", "reveal"], "self_only": True, "sort": 50, "rank": 10},
]
