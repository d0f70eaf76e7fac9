"""What the Rasa server tells the action server about the knowledge base with each message.

The Rasa server's featurizer ranks the knowledge base's entries by how close the message comes
to their example questions (addons/knowledge_ranking.py) and adds the best ones to the message's
parse data under this key; the action server reads them from the tracker's latest message
(actions/answers.py): [{"entry": "<entry key>", "score": <cosine>}, ...], best first.
"""

KNOWLEDGE_RANKING = "knowledge_ranking"
