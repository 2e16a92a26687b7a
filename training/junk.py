"""Questions no paragraph answers: no Chinese content, symbols, greetings, off-topic English."""

from __future__ import annotations

import random

EMOJI = list("👍🙏😂😊🤔❤️🔥🎉😅👀🙂😭💯✅🌟🍜🚄")
PUNCTUATION = list("？?！!。.，,…、；;：:“”\"'（）()《》-—~·")
GREETINGS = [
    "hello",
    "hi",
    "hey there",
    "thanks",
    "thank you",
    "ok",
    "okay",
    "test",
    "good morning",
    "你好",
    "您好",
    "谢谢",
    "在吗",
    "哈哈哈",
    "嗯嗯",
    "好的",
    "再见",
    "早上好",
    "？",
    "lol",
]
# Written for training; none is taken from the project's gold set or the held-out set.
ENGLISH = [
    "How do I reset my password?",
    "What is the weather like in London tomorrow?",
    "Recommend a good pizza place nearby.",
    "How tall is Mount Kilimanjaro?",
    "Who painted the Mona Lisa?",
    "What time does the supermarket close?",
    "How many legs does a spider have?",
    "What is the speed of light?",
    "Can you tell me a joke?",
    "Translate 'good night' into Spanish.",
    "Which planet is closest to the sun?",
    "How do I cook pasta al dente?",
    "What is the population of Canada?",
    "Who wrote Pride and Prejudice?",
    "How much does a Tesla Model 3 cost?",
    "When is the next solar eclipse?",
    "What is the best programming language?",
    "How do I install Python on Windows?",
    "What are the rules of cricket?",
    "Where is the Eiffel Tower?",
    "Is it going to rain today?",
    "What's your name?",
    "Who is the CEO of Apple?",
    "How many calories are in a banana?",
    "What does DNA stand for?",
    "Why is the sky blue?",
    "How long is a marathon?",
    "Who discovered penicillin?",
    "What is the stock price of Google?",
    "How do airplanes fly?",
    "What is machine learning?",
    "Which team won the Super Bowl last year?",
    "What is the tallest building in the world?",
    "How do I make a cup of tea?",
    "When did the Titanic sink?",
    "What currency is used in Japan?",
    "How many players are on a football team?",
    "What is the boiling point of water?",
    "Where can I buy cheap flights?",
    "What is the meaning of life?",
]


def junk_question(rng: random.Random) -> str:
    """Return one question that no paragraph answers."""
    kind = rng.random()
    if kind < 0.2:
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4)))
    if kind < 0.35:
        return "".join(rng.choice(PUNCTUATION) for _ in range(rng.randint(1, 8)))
    if kind < 0.5:
        return rng.choice(GREETINGS)
    return rng.choice(ENGLISH)
